// Header-only: see include/CSluiceMalloc.h.
