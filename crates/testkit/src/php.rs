//! The php-cli oracle (being written).
