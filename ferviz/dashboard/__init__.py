"""The Streamlit dashboard. Only this package imports streamlit; its pages are the files of
:mod:`ferviz.dashboard.pages`, its settings and folders in :mod:`.settings`, the URL state in
:mod:`.state`. ``streamlit run app.py`` and ``ferviz dashboard`` start it."""
