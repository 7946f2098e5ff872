"""Code-agnostic flows: fields are nested makers, engine subclasses only change defaults."""
