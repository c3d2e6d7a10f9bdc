# docs/language.md's builtin reference matches the registry (see docs.cmd).
