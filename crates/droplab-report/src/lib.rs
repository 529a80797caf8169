//! Pure functions from droplab run records to SVG plots and tables.
