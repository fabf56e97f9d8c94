"""The file ``ferviz dashboard`` hands to ``streamlit run``."""

from ferviz.dashboard.main import main

main()
