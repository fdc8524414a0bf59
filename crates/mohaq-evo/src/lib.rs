//! NSGA-II, generic over problems; hypervolume and other indicators; exhaustive ground truth.
