// ESLint for the tablet's plain ES modules (no build step): the recommended rules, browser globals, and the few
// rules that catch what the type checker does not (unused code, loose equality, reassignment). The service worker
// (pwa/templates/sw.js) is a template the server fills, not a module, and is not linted.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["pwa/static/js/**/*.js"],
    languageOptions: {
      ecmaVersion: 2023,
      sourceType: "module",
      globals: { ...globals.browser },
    },
    rules: {
      "no-unused-vars": ["error", { args: "after-used", argsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true }],
      eqeqeq: ["error", "always", { null: "ignore" }],
      "no-var": "error",
      "prefer-const": "error",
    },
  },
];
