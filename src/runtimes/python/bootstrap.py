# Entry point of lambdalite's Python runtime client: `python3 -S -u /var/runtime/bootstrap.py`.
# The client itself is lambdalite_runtime.py because a module's bytecode can be cached in
# __pycache__ (written on the host when the runtime is first resolved) while a script run directly is
# compiled on every start, which costs ~5 ms of each cold start. It is imported while /var/runtime is
# still first on sys.path, so a function module of the same name cannot shadow it.
import lambdalite_runtime

lambdalite_runtime.main()
