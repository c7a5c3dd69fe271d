"""`realtalk bench quality`: how well a stack hears, answers, uses tools and speaks, on a fixed dataset."""
