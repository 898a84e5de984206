// Header-only: see include/CSluiceSIMD.h.
