"""What runs inside the sandbox: the zygote (a fork server), its workers, their guards, and the frames and plain
data they speak. This package imports nothing else from digitcore, so client.private_copy copies it whole and the
sandbox holds no other code of the project (not the reference, not the exercises' judges)."""
