"""Revenue analytics from Stripe events: MRR, movements, audit of missing events, forecast."""
