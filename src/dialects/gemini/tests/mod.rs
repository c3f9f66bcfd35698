//! Unit tests of the Gemini codec.
