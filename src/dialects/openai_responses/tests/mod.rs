//! Unit tests of the OpenAI Responses codec.
