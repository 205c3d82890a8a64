"""Serving: TF Serving's REST API, locally and against the real server.

* ``server`` -- ``imagepipe serve``: a Flask/waitress server speaking TF Serving's
  REST API over ``repository`` (versions, hot reload, labels) and ``servable``
  (one loaded SavedModel); ``json_tensors`` holds TF Serving's JSON formats and
  ``status`` its error codes.
* ``client`` and ``images`` -- ``imagepipe predict``: a small REST client and
  batching of image files.
* ``docker-compose.yml`` and ``models.config`` -- the official TF Serving image
  watching the Pusher's folder.

Of imagepipe's own code, only ``imagepipe.components.features`` is imported here.
"""
