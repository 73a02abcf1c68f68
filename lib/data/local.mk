# lib/data: sources, command, man pages and tests of this area
