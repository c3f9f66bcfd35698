//! Plan tests for every harness: what each one gets for a given route.
