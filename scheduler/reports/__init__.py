"""Reports over the providers' records: adherence and calls handled."""
