// Header-only: see include/CSluiceFile.h.
