"""The domain: cost model, token counting and chart geometry. No web framework imports here."""
