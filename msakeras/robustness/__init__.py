"""`python -m msakeras.robustness MODEL.keras --data PATH.h5` (`__main__`)."""
