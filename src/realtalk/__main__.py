from realtalk.cli import main

main()
