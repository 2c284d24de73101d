import StackModel

/// The tests' seeded generator is the model's SplitMix64 (see StackModel/SeededGenerator.swift).
public typealias SeededGenerator = StackModel.SeededGenerator
