"""Reports for the board: figures per team and period, SVG charts, CSV exports and the printable annual report."""
