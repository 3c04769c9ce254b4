from bva_excel.cli import main

main()
