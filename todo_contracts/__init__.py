"""Python stubs generated from the Protobuf contracts in `proto/todo/<area>/v1`.

Import e.g. `from todo_contracts.tasks.v1 import task_pb2, tasks_service_pb2_grpc`.
"""
