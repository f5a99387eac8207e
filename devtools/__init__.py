"""Developer tooling the pipeline never needs: sample landing data and the local services on loopback."""
