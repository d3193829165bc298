from contentgen.cli.app import main

main()
