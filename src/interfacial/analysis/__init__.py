"""Pure functions of physical quantities: no I/O, shared by jobs and builders."""
