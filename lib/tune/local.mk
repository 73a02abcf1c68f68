# lib/tune: sources, command, man pages and tests of this area
