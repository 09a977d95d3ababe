"""A Cirrus task built on stac-task, deployed as a zip-packaged Python function
and run by run-lambda as a Batch job. Its task parameters say what to do:
process (default), fail as a corrupt scene, or sleep."""

import time

from stactask import Task
from stactask.exceptions import InvalidInput


class SceneCorrupt(Exception):
    """A failure that is not the payload's fault (Cirrus records it as FAILED)."""


class GeoTask(Task):
    name = "geo-task"
    description = "Marks each Item as processed"
    version = "1.0.0"

    def validate(self):
        if not self.items_as_dicts:
            raise InvalidInput("the payload has no features")
        return True

    def process(self, mode="process", secs=0, **kwargs):
        if mode == "corrupt":
            raise SceneCorrupt("band 1 of the scene is truncated")
        if mode == "sleep":
            time.sleep(secs)
        items = []
        for item in self.items_as_dicts:
            item["properties"]["geo-task:processed"] = True
            items.append(item)
        return items


def handler(event, context):
    return GeoTask.handler(event)
