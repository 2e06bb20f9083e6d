//! TIME containers: `/proc/[pid]/time_offsets` and `timens_offsets` helpers.
