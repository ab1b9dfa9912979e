# Páginas de error.

error-csrf-title = Este formulario caducó
error-csrf-message = El formulario era demasiado antiguo o no venía de este sitio, así que no se cambió nada. Vuelva atrás, recargue la página e inténtelo de nuevo.
error-bad-request-title = No se pudo leer esa solicitud
error-bad-request-message = El formulario llegó incompleto o mal formado, así que no se cambió nada. Recargue la página e inténtelo de nuevo.
error-too-large-title = Esa solicitud era demasiado grande
error-too-large-message = El formulario envió más datos de los que necesita un inicio de sesión, así que no se cambió nada. Recargue la página e inténtelo de nuevo.
error-unavailable-title = No disponible por el momento
error-unavailable-message = El servicio de inicio de sesión no puede llegar a su base de datos ahora mismo. No se cambió nada. Inténtelo de nuevo en un minuto; si sigue pasando, avise al administrador de su consultorio.
error-internal-title = Algo salió mal
error-internal-message = El servicio de inicio de sesión tuvo un error inesperado. No se cambió nada. Inténtelo de nuevo; si sigue pasando, avise al administrador de su consultorio.
not-found-title = Página no encontrada
not-found-message = No hay ninguna página en esta dirección.
not-found-link = Ir a la página de inicio
