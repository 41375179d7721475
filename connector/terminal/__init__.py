"""What every command area shares: the node's folder and settings (common), calls to the
running node's management API (management), and output for people and scripts (output).

Below the features and light to import: `communs --help` loads these and nothing heavy.
"""
