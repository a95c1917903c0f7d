"""Web blueprints: public, portal (citizen), desk (reviewer), admin (configurator), api."""
