//! murphy bench
