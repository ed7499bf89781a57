"""What happens to a command line on a simulated host: decoding, dispatch, validation."""
