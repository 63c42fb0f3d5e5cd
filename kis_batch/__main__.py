from kis_batch.cli import command_line

command_line()
