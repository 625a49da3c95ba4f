print("crash worker")
