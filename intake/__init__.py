"""The application shell: the command line, the service, the configuration and the wiring."""
