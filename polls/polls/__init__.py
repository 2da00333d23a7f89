"""The polls app from the Django tutorial, packaged for production."""
