import StackCLI

StackCommand.start()
