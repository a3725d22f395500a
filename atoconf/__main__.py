from atoconf.cli import main

main()
