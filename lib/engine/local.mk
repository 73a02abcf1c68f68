# lib/engine: sources, command, man pages and tests of this area
