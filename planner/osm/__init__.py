"""OpenStreetMap inputs."""
