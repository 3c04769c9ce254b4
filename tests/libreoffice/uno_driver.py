"""Drive a running LibreOffice through UNO, as a person with a spreadsheet application would.

Runs under Debian's own python3 (the only one that can import `uno`), as a subprocess of the tests:

    python3 uno_driver.py PORT JOB.json     # prints one JSON object with the results

A job is {"op": ..., ...}; see the functions below. The interpreter may crash on a normal exit after
UNO use, so the script ends with os._exit.
"""

import json
import os
import sys
import traceback

import uno
import unohelper
from com.sun.star.beans import PropertyValue
from com.sun.star.task import XInteractionHandler


def prop(name, value):
    item = PropertyValue()
    item.Name, item.Value = name, value
    return item


class RecordingHandler(unohelper.Base, XInteractionHandler):
    """Answers LibreOffice's questions (repair? which filter?) and remembers that it was asked."""

    def __init__(self):
        self.requests = []

    def handle(self, request):
        self.requests.append(str(request.getRequest().typeName if hasattr(request.getRequest(), "typeName")
                                 else request.getRequest()))
        for continuation in request.getContinuations():
            if continuation.queryInterface(uno.getTypeByName("com.sun.star.task.XInteractionAbort")):
                continuation.select()
                return


def connect(port):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    context = resolver.resolve(f"uno:socket,host=127.0.0.1,port={port};urp;StarOffice.ComponentContext")
    desktop = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", context)
    return context, desktop


def load(desktop, path, handler=None):
    properties = [prop("Hidden", True)]
    if handler is not None:
        properties.append(prop("InteractionHandler", handler))
    return desktop.loadComponentFromURL(uno.systemPathToFileUrl(os.path.abspath(path)), "_blank", 0,
                                        tuple(properties))


def save_xlsx(document, path):
    document.storeToURL(uno.systemPathToFileUrl(os.path.abspath(path)),
                        (prop("FilterName", "Calc MS Excel 2007 XML"),))


def fill(context, desktop, job):
    """Type values into cells through the application's own input path (after inserting any rows asked for),
    then save as .xlsx."""
    document = load(desktop, job["path"])
    try:
        sheet = document.Sheets.getByName(job["sheet"])
        for row in job.get("insert_rows", []):  # an empty row inserted above this Excel row, as Insert > Rows does
            sheet.getRows().insertByIndex(row - 1, 1)
        controller = document.getCurrentController()
        controller.setActiveSheet(sheet)
        dispatcher = context.ServiceManager.createInstanceWithContext("com.sun.star.frame.DispatchHelper", context)
        frame = controller.getFrame()
        typed = {}
        for address, text in job["cells"].items():
            cell = sheet.getCellRangeByName(address)
            if job.get("via") == "api":
                cell.setString(text)
            else:
                controller.select(cell)
                dispatcher.executeDispatch(frame, ".uno:EnterString", "", 0, (prop("StringName", text),))
            typed[address] = cell.getString()
        save_xlsx(document, job["out"])
        return {"typed": typed}
    finally:
        document.close(True)


def edit(context, desktop, job):
    """Steps a person takes in a workbook, in order, then save as .xlsx: insert a column
    ({"insert_column": SHEET, "at": 0-based index}), add a sheet ({"add_sheet": NAME}) or put text or a
    formula into cells ({"sheet": SHEET, "cells": {"A1": "text"}}) through the API (typing through the
    dispatcher into a report's Scores sheet crashed LibreOffice 7.4 headless)."""
    document = load(desktop, job["path"])
    try:
        for step in job["steps"]:
            if "insert_column" in step:
                document.Sheets.getByName(step["insert_column"]).Columns.insertByIndex(step["at"], 1)
            elif "add_sheet" in step:
                document.Sheets.insertNewByName(step["add_sheet"], document.Sheets.getCount())
            else:
                sheet = document.Sheets.getByName(step["sheet"])
                for address, text in step["cells"].items():
                    cell = sheet.getCellRangeByName(address)
                    if text.startswith("="):
                        cell.setFormula(text)
                    else:
                        cell.setString(text)
        save_xlsx(document, job["out"])
        return {}
    finally:
        document.close(True)


def inspect(context, desktop, job):
    """What the application makes of a sheet: protection, locked cells, dropdown entries."""
    document = load(desktop, job["path"])
    try:
        sheet = document.Sheets.getByName(job["sheet"])
        result = {"protected": sheet.isProtected(), "locked": {}, "validation": {}}
        for address in job.get("cells", []):
            cell = sheet.getCellRangeByName(address)
            result["locked"][address] = cell.CellProtection.IsLocked
            validation = cell.Validation
            result["validation"][address] = {
                "type": validation.Type.value, "formula": validation.getFormula1(),
                "show_list": validation.ShowList}
        return result
    finally:
        document.close(True)


def used_values(document):
    values = {}
    for index in range(document.Sheets.getCount()):
        sheet = document.Sheets.getByIndex(index)
        cursor = sheet.createCursor()
        cursor.gotoEndOfUsedArea(False)
        address = cursor.getRangeAddress()
        data = sheet.getCellRangeByPosition(0, 0, address.EndColumn, address.EndRow).getDataArray()
        values[sheet.Name] = [list(row) for row in data]
    return values


def open_clean(context, desktop, job):
    """Open with a handler that records every question asked; recalculate; report what changed."""
    handler = RecordingHandler()
    document = load(desktop, job["path"], handler)
    if document is None:
        return {"opened": False, "requests": handler.requests}
    try:
        before = used_values(document)
        document.calculateAll()
        after = used_values(document)
        changed = []
        for name, rows in before.items():
            for r, (old_row, new_row) in enumerate(zip(rows, after[name])):
                for c, (old, new) in enumerate(zip(old_row, new_row)):
                    if old != new:
                        changed.append([name, r, c, old, new])
        return {"opened": True, "requests": handler.requests, "changed": changed,
                "sheets": list(before), "values": before}
    finally:
        document.close(True)


def main():
    port, job_file = sys.argv[1], sys.argv[2]
    with open(job_file, encoding="utf-8") as handle:
        job = json.load(handle)
    try:
        context, desktop = connect(port)
        result = {"ok": True, **globals()[job["op"]](context, desktop, job)}
    except Exception:  # report every failure to the test as data
        result = {"ok": False, "error": traceback.format_exc()}
    sys.stdout.write(json.dumps(result, default=str))
    sys.stdout.flush()
    os._exit(0)


if __name__ == "__main__":
    main()
