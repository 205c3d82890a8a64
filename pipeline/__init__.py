"""The pipeline around the components: configuration, the DAG, runners and the command line."""
