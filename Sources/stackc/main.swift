import StackCLI

StackCommand.main()
