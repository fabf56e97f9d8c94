"""Views shared by the CLI report and the dashboard: plotly figures and inline images."""
