"""The ferviz dashboard: ``streamlit run app.py [-- --data fer2013.csv.xz ...]`` (or
``ferviz dashboard``). The app lives in :mod:`ferviz.dashboard`."""

from ferviz.dashboard.main import main

main()
