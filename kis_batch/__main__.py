from kis_batch.cli import main

main()
