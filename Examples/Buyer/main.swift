print("example: in progress")
