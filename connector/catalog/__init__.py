"""The catalog: DCAT datasets, their access and offers, DSP catalog endpoints, DCAT-AP import and export."""
